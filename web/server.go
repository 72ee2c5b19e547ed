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
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"infrashare"
	"infrashare/auth"
	"infrashare/database"
	"infrashare/notify"
	"infrashare/permits"
	"infrashare/registry"
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
	// Clock is the time source; nil means the system clock. Tests move a
	// TestClock instead of sleeping.
	Clock infrashare.Clock
	// PolicyPoll is how often a replica looks for new policies (default 1 s).
	PolicyPoll time.Duration
	// SweepInterval is how often a replica marks overdue and expired
	// co-location requests (default 30 s).
	SweepInterval time.Duration
}

// Server is the HTTP server with its dependencies.
type Server struct {
	cfg      Config
	db       *database.DB
	log      *slog.Logger
	echo     *echo.Echo
	metrics  *prometheus.Registry
	openapi  []byte
	auth     *auth.Service
	settings *auth.Settings
	units    *registry.Units
	registry *registry.Service
	notify   *notify.Service
	permits  *permits.Service
	policies *auth.Policies
	store    *auth.SessionStore
	sessions *scs.SessionManager
}

// New builds the domain services on db, the server and its routes.
func New(ctx context.Context, cfg Config, db *database.DB, log *slog.Logger) (*Server, error) {
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = infrashare.SystemClock{}
	}
	if cfg.PolicyPoll <= 0 {
		cfg.PolicyPoll = time.Second
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 30 * time.Second
	}
	spec, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	audit := auth.NewAudit(db, cfg.Clock)
	policies, err := auth.NewPolicies(ctx, db, audit, log)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: db, log: log, echo: echo.New(), metrics: prometheus.NewRegistry(), openapi: spec,
		auth: auth.NewService(db, cfg.Clock, audit), policies: policies, store: auth.NewSessionStore(db, cfg.Clock),
		settings: auth.NewSettings(db, cfg.Clock), units: registry.NewUnits(db, cfg.Clock)}
	s.notify = notify.New(db, cfg.Clock, s.settings, log)
	s.registry = registry.NewService(db, cfg.Clock, audit, s.settings, s.units)
	s.registry.SetNotifier(s.notify)
	s.permits = permits.New(db, cfg.Clock, audit, s.settings, s.registry, s.units)
	s.sessions = s.newSessionManager(ctx)
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.JSONSerializer = appendingJSON{}
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	e.Use(assignRequestID)
	e.Use(s.securityHeaders)
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
		Skipper: func(c echo.Context) bool { return c.Path() == "/metrics" },
	}))
	e.Use(bodyLimit)
	e.Use(checkRequestText)
	s.routes()
	return s, nil
}

// newSessionManager keeps sessions in the database with the idle and
// absolute timeouts of the settings (read at start).
func (s *Server) newSessionManager(ctx context.Context) *scs.SessionManager {
	sm := scs.New()
	sm.Store = s.store
	sm.IdleTimeout, sm.Lifetime = s.auth.SessionTimeouts(ctx)
	sm.Cookie.Name = "infrashare_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = strings.HasPrefix(s.cfg.BaseURL, "https://")
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.Error("session store", "error", err.Error())
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
	}
	return sm
}

func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: s.metrics}))
	e.GET("/api/openapi.json", s.openAPI)

	s.public("POST", "/auth/login", s.login)
	s.private("POST", "/auth/logout", s.logout)
	s.private("GET", "/me", s.me)
	s.private("GET", "/me/tokens", s.listTokens)
	s.private("POST", "/me/tokens", s.createToken)
	s.private("DELETE", "/me/tokens/:id", s.deleteToken)

	s.private("GET", "/organizations", s.listOrgs)
	s.private("POST", "/organizations", s.createOrg)
	s.private("GET", "/users", s.listUsers)
	s.private("POST", "/users", s.createUser)
	s.private("GET", "/users/:id", s.getUser)
	s.private("PATCH", "/users/:id", s.patchUser)
	s.private("GET", "/policies", s.getPolicies)
	s.private("PUT", "/policies", s.putPolicies)

	s.private("GET", "/audit-events", s.listAuditEvents)
	s.private("GET", "/audit-events/verify", s.verifyAudit)

	s.unitRoutes()
	s.assetRoutes()
	s.transferRoutes()
	s.colocationRoutes()
	s.referenceRoutes()
	s.undergroundRoutes()
	s.permitRoutes()
	s.annualRoutes()
	s.pageRoutes()
	s.webhookRoutes()

	// Unknown routes under /api answer a JSON 404 rather than a page.
	e.RouteNotFound("/api/*", func(echo.Context) error { return echo.ErrNotFound })
}

// public adds an API route anyone may call. Middleware goes on each route,
// not on a group: a group's middleware would also run for unknown paths and
// answer 401 where 404 is right.
func (s *Server) public(method, path string, h echo.HandlerFunc) {
	s.echo.Add(method, "/api/v1"+path, h, echo.WrapMiddleware(s.sessions.LoadAndSave))
}

// private adds an API route for signed-in callers whose role the policy
// allows.
func (s *Server) private(method, path string, h echo.HandlerFunc) {
	s.echo.Add(method, "/api/v1"+path, h, echo.WrapMiddleware(s.sessions.LoadAndSave), s.signedIn)
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
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	go s.policies.Watch(bg, s.cfg.PolicyPoll)
	go s.cleanSessions(bg)
	go s.notify.Run(bg)
	go s.sweepDeadlines(bg)
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

// sweepDeadlines marks overdue and expired requests every SweepInterval
// until ctx ends. Every replica runs it; the register makes each change
// once, and each replica logs the changes it made.
func (s *Server) sweepDeadlines(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.registry.SweepDeadlines(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("deadline sweep failed", "error", err.Error())
			}
			if n > 0 {
				s.log.Info("deadlines swept", "changed", n)
			}
		}
	}
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
