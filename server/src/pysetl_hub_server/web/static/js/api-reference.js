// Starts the vendored Swagger UI on the hub's own OpenAPI document (no inline script: CSP).
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({
    url: node.getAttribute("data-spec"),
    domNode: node,
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
  });
});
