"""Play history: what played on each account, the streams it played in, exports and stats."""
