// GET /docs: openapi.yaml rendered by Swagger UI, both bundled into this
// build (no CDN). The document is copied into the build as a hashed asset.
import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import specUrl from "../../openapi.yaml?url";
import "./docs.css";

SwaggerUI({
  url: specUrl,
  dom_id: "#reference",
  deepLinking: true,
  // Swagger UI would otherwise send the document to an online validator.
  validatorUrl: null,
});
