/* GraphiQL on TuneDeck's /graphql, from the files vendored beside this one.
 *
 * A browser signed in to the dashboard uses its session: the cookie goes with every
 * request, and the session's CSRF token (from GET /v1/session, kept in memory only) is
 * sent as X-CSRF-Token, as the dashboard does. Otherwise a key goes in the Headers tab.
 * Subscriptions run over the same origin's WebSocket (graphql-transport-ws). */
(function () {
  "use strict";

  var EXAMPLE = [
    "# TuneDeck's GraphQL API: Ctrl-Enter runs it,",
    "# the book icon lists every field.",
    "query NowPlaying {",
    "  spotifyState {",
    "    nowPlaying {",
    "      isPlaying",
    "      progressMs",
    "      track { name artists album }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  function socketUrl(path) {
    var url = new URL(path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  function sessionToken() {
    return fetch("/v1/session", { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (session) { return session ? session.csrf_token : null; })
      .catch(function () { return null; });
  }

  sessionToken().then(function (csrf) {
    var headers = csrf ? { "X-CSRF-Token": csrf } : {};
    document.getElementById("signin").hidden = Boolean(csrf);
    var fetcher = GraphiQL.createFetcher({
      url: "/graphql",
      headers: headers,
      subscriptionUrl: socketUrl("/graphql"),
    });
    var root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        defaultQuery: EXAMPLE,
        defaultEditorToolsVisibility: !csrf,
        defaultHeaders: csrf ? "" : '{"Authorization": "Bearer tdk_..."}',
        plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      })
    );
  });
})();
