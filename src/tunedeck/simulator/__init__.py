"""A local server speaking Spotify's Web API and accounts service, for the demo and tests."""
