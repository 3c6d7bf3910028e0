"""Song requests: viewers ask for songs from chat, moderators decide, TuneDeck plays them.

The pure core lives here: what a viewer typed (``parsing``), the best of Spotify's
results (``scoring``), looking it up through a cache (``matching``), the channel's rules
(``settings``, ``rules``), who is asking according to the chat bot (``viewers``), the
line a bot prints (``answers``), and the reasons a request is refused (``reasons``).
"""
