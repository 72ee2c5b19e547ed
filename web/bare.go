package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// bareBody is the bare server's one answer: a nearby-shaped list, small,
// so that what is measured is the framework and the network, not JSON.
var bareBody = []byte(`{"items":[{"asset":{"id":1,"code":"BARE-1","kind":"tower"},"distance_m":81.4}]}`)

// Bare is Echo with one catch-all route that answers a fixed JSON body: no
// database, sign-in, policy or middleware. Load tests run the same
// generator against it (cmd/infrashare-load -bare-server) to measure the
// framework's ceiling on the machine, beside the real server's figures.
// It lives here because every Echo import stays in this package.
func Bare() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Any("/*", func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, bareBody)
	})
	return e
}
