"""``tunedeck doctor`` and the admin's Health page: what stands between a fresh install
and a working overlay, checked one by one, each with what to do."""
