"""The public queue page: a link the streamer turns on (and can replace or turn off) that
shows anyone what plays and what is coming, with the requesters' display names, live."""
