"""The GraphQL door of the player (``/graphql``)."""
