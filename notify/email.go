package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"infrashare/auth"
)

// SMTPConfig is the setting notify.smtp. An empty Host means e-mail is not
// configured (see RunOnce for what happens to e-mail meanwhile). The
// password is never logged nor written to last_error.
type SMTPConfig struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	From     string `json:"from"`
	Username string `json:"username"`
	Password string `json:"password"`
	// StartTLS upgrades the connection with STARTTLS before anything else
	// is said; port 465 speaks TLS from the start instead.
	StartTLS bool `json:"starttls"`
}

func (c SMTPConfig) configured() bool { return strings.TrimSpace(c.Host) != "" }

// smtpSettings reads the setting notify.smtp in force today.
func (s *Service) smtpSettings(ctx context.Context) (SMTPConfig, error) {
	cfg := SMTPConfig{Port: 25, From: "infrashare@localhost"}
	if err := s.settings.Get(ctx, "notify.smtp", &cfg); err != nil {
		return SMTPConfig{}, err
	}
	cfg.Host = strings.TrimSpace(cfg.Host)
	if cfg.Port <= 0 || cfg.Port > 65535 {
		cfg.Port = 25
	}
	if strings.TrimSpace(cfg.From) == "" {
		cfg.From = "infrashare@localhost"
	}
	return cfg, nil
}

// sendEmail sends one e-mail delivery: the event rendered in Vietnamese to
// the organisation's contact address.
func (s *Service) sendEmail(ctx context.Context, c *claimed, cfg SMTPConfig) error {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return fmt.Errorf("the sender address in notify.smtp is not valid")
	}
	to, err := mail.ParseAddress(c.Target)
	if err != nil || strings.ContainsAny(c.Target, "\r\n") {
		return permanent("the recipient address %q is not valid", c.Target)
	}
	msg, err := buildEmail(c, from, &mail.Address{Name: c.orgName, Address: to.Address}, s.now())
	if err != nil {
		return permanent("render the message: %v", err)
	}
	return sendSMTP(ctx, cfg, from.Address, to.Address, msg)
}

// buildEmail renders the message: UTF-8 text/plain, quoted-printable, with
// an RFC 2047 subject and a Message-ID that stays the same on retries, so
// that a mail system can drop a duplicate.
func buildEmail(c *claimed, from, to *mail.Address, now time.Time) ([]byte, error) {
	subject, body, err := renderMail(c.event, c.orgName)
	if err != nil {
		return nil, err
	}
	domain := "infrashare.invalid"
	if i := strings.LastIndexByte(from.Address, '@'); i >= 0 && i+1 < len(from.Address) {
		domain = from.Address[i+1:]
	}
	var b bytes.Buffer
	header := func(k, v string) {
		// Values come from the settings, the database and the templates;
		// none may break out of its header line.
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
		b.WriteString(k + ": " + v + "\r\n")
	}
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.BEncoding.Encode("UTF-8", subject))
	header("Date", now.In(auth.Vietnam).Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<infrashare.%s.d%d@%s>", eventID(c.event.ID), c.ID, domain))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	header("X-Infrashare-Event-Id", eventID(c.event.ID))
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sendSMTP speaks SMTP to the configured server: a bounded dial, TLS on
// port 465 or STARTTLS when asked, PLAIN authentication only with a user
// name (net/smtp refuses it over a plain connection except to localhost),
// one recipient.
func sendSMTP(ctx context.Context, cfg SMTPConfig, from, to string, msg []byte) error {
	// Network deadlines run on the real clock, whatever clock the service
	// has.
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	d := net.Dialer{Timeout: smtpDialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: %v", err)
	}
	if cfg.Port == 465 {
		conn = tls.Client(conn, &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12})
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		_ = conn.Close()
		return smtpError("greeting", err)
	}
	defer c.Close()
	helo := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		helo = from[i+1:]
	}
	if err := c.Hello(helo); err != nil {
		return smtpError("EHLO", err)
	}
	if cfg.StartTLS && cfg.Port != 465 {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp: the server does not offer STARTTLS")
		}
		if err := c.StartTLS(&tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return smtpError("STARTTLS", err)
		}
	}
	if cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return smtpError("AUTH", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return smtpError("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return smtpError("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("DATA", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted with the 250 after DATA; a failed QUIT
		// changes nothing.
		return nil
	}
	return nil
}

func smtpError(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Errorf("smtp %s: %d %s", step, te.Code, te.Msg)
	}
	return fmt.Errorf("smtp %s: %v", step, err)
}
