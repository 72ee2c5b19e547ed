package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"infrashare/database"
)

// Config is every INFRASHARE_* setting; the README's table lists them all.
type Config struct {
	DatabaseURL            string        `env:"INFRASHARE_DATABASE_URL" envDefault:"sqlite://./data/infrashare.db"`
	Addr                   string        `env:"INFRASHARE_ADDR" envDefault:":8080"`
	Demo                   bool          `env:"INFRASHARE_DEMO" envDefault:"false"`
	DemoPassword           string        `env:"INFRASHARE_DEMO_PASSWORD"`
	LogLevel               string        `env:"INFRASHARE_LOG_LEVEL" envDefault:"info"`
	BaseURL                string        `env:"INFRASHARE_BASE_URL"`
	TrustedProxies         []string      `env:"INFRASHARE_TRUSTED_PROXIES" envSeparator:","`
	AllowUnknownMigrations bool          `env:"INFRASHARE_ALLOW_UNKNOWN_MIGRATIONS" envDefault:"false"`
	ShutdownTimeout        time.Duration `env:"INFRASHARE_SHUTDOWN_TIMEOUT" envDefault:"30s"`
	SweepInterval          time.Duration `env:"INFRASHARE_SWEEP_INTERVAL" envDefault:"30s"`
	PprofAddr              string        `env:"INFRASHARE_PPROF_ADDR"`

	// Derived by check.
	level   slog.Level
	proxies []*net.IPNet
}

// configError names the variable at fault, for the one line main prints.
type configError struct{ name, reason string }

func (e configError) Error() string { return e.name + ": " + e.reason }

// loadConfig reads the environment through lookup (os.LookupEnv in main).
func loadConfig(environ map[string]string) (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, explainEnvError(err)
	}
	return c, c.check()
}

// explainEnvError turns the library's field names back into variable names.
func explainEnvError(err error) error {
	var agg env.AggregateError
	if errors.As(err, &agg) && len(agg.Errors) > 0 {
		err = agg.Errors[0]
	}
	var pe env.ParseError
	if errors.As(err, &pe) {
		name := pe.Name
		if f, ok := reflect.TypeOf(Config{}).FieldByName(pe.Name); ok {
			name = f.Tag.Get("env")
		}
		reason := "cannot read the value"
		switch pe.Type.Kind() {
		case reflect.Bool:
			reason = "must be true or false"
		case reflect.Int64:
			reason = "must be a duration such as 30s or 2m"
		}
		return configError{name, reason}
	}
	return err
}

func (c *Config) check() error {
	if _, _, err := database.ParseURL(c.DatabaseURL); err != nil {
		return configError{"INFRASHARE_DATABASE_URL", err.Error()}
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		return configError{"INFRASHARE_ADDR", fmt.Sprintf("must be host:port or :port, got %q", c.Addr)}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		c.level = slog.LevelDebug
	case "info", "":
		c.level = slog.LevelInfo
	case "warn", "warning":
		c.level = slog.LevelWarn
	case "error":
		c.level = slog.LevelError
	default:
		return configError{"INFRASHARE_LOG_LEVEL", fmt.Sprintf("must be debug, info, warn or error, got %q", c.LogLevel)}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return configError{"INFRASHARE_BASE_URL", fmt.Sprintf("must be an absolute http:// or https:// URL, got %q", c.BaseURL)}
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	for _, p := range c.TrustedProxies {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			ip := net.ParseIP(p)
			if ip == nil {
				return configError{"INFRASHARE_TRUSTED_PROXIES", fmt.Sprintf("%q is neither an IP address nor a CIDR", p)}
			}
			bits := 32
			if ip.To4() == nil {
				bits = 128
			}
			p = fmt.Sprintf("%s/%d", p, bits)
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return configError{"INFRASHARE_TRUSTED_PROXIES", fmt.Sprintf("%q is neither an IP address nor a CIDR", p)}
		}
		c.proxies = append(c.proxies, n)
	}
	if c.PprofAddr != "" {
		// Profiles show request data and cost CPU; only a loopback address
		// keeps them off the network.
		host, port, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || port == "" || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return configError{"INFRASHARE_PPROF_ADDR", fmt.Sprintf("must be a loopback host:port such as 127.0.0.1:6060, got %q", c.PprofAddr)}
		}
	}
	if c.DemoPassword != "" && len([]rune(c.DemoPassword)) < 10 {
		return configError{"INFRASHARE_DEMO_PASSWORD", "must be at least 10 characters"}
	}
	if c.ShutdownTimeout <= 0 {
		return configError{"INFRASHARE_SHUTDOWN_TIMEOUT", "must be positive"}
	}
	if c.SweepInterval <= 0 {
		return configError{"INFRASHARE_SWEEP_INTERVAL", "must be positive"}
	}
	return nil
}

// publicURL is where people reach the server, for printed sign-in hints.
func (c Config) publicURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
