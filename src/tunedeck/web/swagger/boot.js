/* Swagger UI on TuneDeck's OpenAPI description, started from this file: the page runs
 * no inline script (its Content-Security-Policy allows scripts from TuneDeck's own
 * files only). The options are those of FastAPI's own page, without the validator
 * badge (it would send the description to validator.swagger.io) and without an OAuth2
 * flow (keys are bearer tokens). */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
