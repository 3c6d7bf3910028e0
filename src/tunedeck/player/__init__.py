"""The player: everything a streamer's Spotify can be asked or told, one operation each,
called by both doors (REST and GraphQL).

- ``inputs``: one validated input model per operation, and every limit;
- ``context``: what an operation runs with, the permission check, the action runner;
- ``reads``, ``playback``, ``playlists``, ``manual_connect``: the operations;
- ``schemas``: response shapes; ``errors``: Spotify's refusals as answers;
- ``now_playing``: what plays now, one store for every reader and writer (the poller,
  the actions, the state, the live feeds); ``state``: the shared state cache over it;
- ``repository`` / ``models``: the manual-connect window;
- ``rest``, ``graphql/``: the doors (transport only); ``deps``: a door's context.
"""
