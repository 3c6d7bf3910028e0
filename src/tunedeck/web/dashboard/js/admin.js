// admin: coming in the next step.

export function initAdmin() {}
