// connection: coming in the next step.

export function initConnection() {}
