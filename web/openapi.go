package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// openapiYAML is the hand-written API description. A test walks the real
// routes against it, so the two cannot drift.
//
//go:embed openapi.yaml
var openapiYAML []byte

func loadOpenAPI() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("web/openapi.yaml: %w", err)
	}
	doc.Servers = nil
	return doc, nil
}

func openAPIJSON() ([]byte, error) {
	doc, err := loadOpenAPI()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

func (s *Server) openAPI(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, s.openapi)
}
