"""The player: everything a streamer's Spotify can be asked or told, through REST and
GraphQL, with validation, error answers and playback events in one service layer."""
