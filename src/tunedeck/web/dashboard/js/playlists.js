// playlists: coming in the next step.

export function initPlaylists() {}

export async function pickPlaylistFor() {}
