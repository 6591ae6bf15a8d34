// Mounts Swagger UI (UMD global SwaggerUIBundle) into #swagger-ui.
// Kept in a separate file so the page works under `script-src 'self'`.
(function () {
  'use strict';

  var container = document.getElementById('swagger-ui');
  var specUrl = container.getAttribute('data-spec-url') || '/api/openapi.json';

  window.ui = SwaggerUIBundle({
    url: specUrl,
    dom_id: '#swagger-ui',
    deepLinking: true,
    // Default is https://validator.swagger.io/validator (an external request
    // for the validator badge); null disables it so the page stays offline.
    validatorUrl: null,
    // Never let ?url=/?configUrl= in the address bar load another spec.
    queryConfigEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
})();
