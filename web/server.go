// Package web is the HTTP face of infrashare: the Echo server, the JSON API
// handlers, the HTML pages and the OpenAPI document. It knows no SQL: every
// handler decodes, validates, calls a domain service and encodes. Every Echo
// import of the project lives in this package.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"infrashare/database"
)

// Config is what the server needs from the environment.
type Config struct {
	Addr    string
	BaseURL string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	Version        string
	// ShutdownTimeout bounds how long in-flight requests may run after a
	// SIGTERM.
	ShutdownTimeout time.Duration
}

// Server is the HTTP server with its dependencies.
type Server struct {
	cfg     Config
	db      *database.DB
	log     *slog.Logger
	echo    *echo.Echo
	metrics *prometheus.Registry
	openapi []byte
}

// New builds the server and its routes.
func New(cfg Config, db *database.DB, log *slog.Logger) (*Server, error) {
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	spec, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: db, log: log, echo: echo.New(), metrics: prometheus.NewRegistry(), openapi: spec}
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	e.Use(assignRequestID)
	e.Use(s.requestLogger())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll:   true,
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "request_id", requestID(c), "error", err.Error(), "stack", string(stack))
			return err
		},
	}))
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace:  "infrashare",
		Subsystem:  "http",
		Registerer: s.metrics,
		// Labels a client controls (Host, unknown paths) must not mint new
		// series without bound.
		DoNotUseRequestPathFor404: true,
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"host": func(echo.Context, error) string { return "" },
		},
		Skipper:    func(c echo.Context) bool { return c.Path() == "/metrics" },
	}))
	e.Use(bodyLimit)
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: s.metrics}))
	e.GET("/api/openapi.json", s.openAPI)
}

// Handler is the server as an http.Handler, for tests.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until ctx is done, then stops taking new connections
// and lets in-flight requests finish (up to ShutdownTimeout). A clean
// shutdown returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ipExtractor believes X-Forwarded-For only from the trusted proxies.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
