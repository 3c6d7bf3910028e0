// activity: coming in the next step.

export function initActivity() {}
