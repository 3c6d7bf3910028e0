// devices: coming in the next step.

export function initDevices() {}
