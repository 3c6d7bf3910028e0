/* GraphiQL on TuneDeck's /graphql, from the files vendored beside this one.
 *
 * A browser signed in to the dashboard uses its session: the cookie goes with every
 * request, and the session's CSRF token (from GET /v1/session, kept in memory only) is
 * sent as X-CSRF-Token, as the dashboard does. Otherwise a key goes in the Headers tab.
 * Subscriptions run over the same origin's WebSocket (graphql-transport-ws).
 *
 * Nothing GraphiQL keeps goes to the browser's storage: a key pasted in the Headers tab
 * would otherwise be written to localStorage with the query history (GraphiQL keeps
 * each run's headers there even with header persistence off). Tabs, history and
 * settings live in this page's memory and go with it; the setting that would persist
 * headers is not offered. */
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

  // A Storage (the part of its interface GraphiQL uses) that keeps everything in memory.
  function memoryStorage() {
    var items = new Map();
    return {
      getItem: function (key) {
        return items.has(key) ? items.get(key) : null;
      },
      setItem: function (key, value) {
        items.set(key, String(value));
      },
      removeItem: function (key) {
        items.delete(key);
      },
      clear: function () {
        items.clear();
      },
      get length() {
        return items.size;
      },
    };
  }

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
        storage: memoryStorage(),
        shouldPersistHeaders: false,
        defaultQuery: EXAMPLE,
        defaultEditorToolsVisibility: !csrf,
        defaultHeaders: csrf ? "" : '{"Authorization": "Bearer tdk_..."}',
        plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      })
    );
  });
})();
