package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/itiny/itiny/migrate"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// dialJetStream connects to the NATS server at u, retrying a refused or
// unreachable server at most c.retries times with a growing pause, but
// never refused credentials, and checks that JetStream is there.
func dialJetStream(ctx context.Context, u *url.URL, c *config, maxBytes int64) (migrate.Sink, error) {
	reconnects := c.retries
	if c.follow {
		reconnects = -1 // an outage of any length: the rings keep what waits
	}
	opts := []nats.Option{
		nats.Name("itiny-migrate"),
		nats.Timeout(c.timeout),
		nats.MaxReconnects(reconnects),
		nats.ReconnectWait(time.Second),
		nats.NoCallbacksAfterClientClose(),
	}
	if ev := c.connEvent; ev != nil {
		opts = append(opts,
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err == nil {
					err = errors.New("disconnected")
				}
				ev(err)
			}),
			nats.ReconnectHandler(func(*nats.Conn) { ev(nil) }))
	}
	tc, err := c.sec.tlsConfig(u.Hostname(), u.Scheme == "tls")
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	switch {
	case c.sec.creds != "":
		if _, err := readSecret(c.sec.creds); err != nil { // the client reads it again
			return nil, withCode(exitUsage, fmt.Errorf("--creds: %w", err))
		}
		opts = append(opts, nats.UserCredentials(c.sec.creds))
	case c.sec.nkey != "":
		if _, err := readSecret(c.sec.nkey); err != nil { // the client reads it again
			return nil, withCode(exitUsage, fmt.Errorf("--nkey: %w", err))
		}
		o, err := nats.NkeyOptionFromSeed(c.sec.nkey)
		if err != nil {
			return nil, withCode(exitUsage, fmt.Errorf("--nkey %s: %w", c.sec.nkey, err))
		}
		opts = append(opts, o)
	case os.Getenv("ITINY_NATS_USER") != "":
		opts = append(opts, nats.UserInfo(os.Getenv("ITINY_NATS_USER"), os.Getenv("ITINY_NATS_PASSWORD")))
	case os.Getenv("ITINY_NATS_TOKEN") != "":
		opts = append(opts, nats.Token(os.Getenv("ITINY_NATS_TOKEN")))
	}
	host := u.Host
	var nc *nats.Conn
	pause := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		nc, err = nats.Connect(u.String(), opts...)
		if err == nil {
			break
		}
		if authRefused(err) {
			return nil, withCode(exitRefused, fmt.Errorf("nats server %s refused the credentials: %w", host, err))
		}
		if tlsFailed(err) { // retrying cannot mend a certificate
			return nil, withCode(exitRefused, fmt.Errorf("TLS handshake with nats server %s failed: %w", host, err))
		}
		if attempt >= c.retries {
			return nil, fmt.Errorf("cannot reach nats server %s after %s: %w", host, attempts(attempt), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, c.timeout)
		_, err = js.AccountInfo(actx)
		cancel()
	}
	if err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("nats server %s: JetStream is not enabled (start it with -js)", host)
		}
		return nil, fmt.Errorf("nats server %s: %w", host, err)
	}
	return migrate.NewJetStream(nc, migrate.JetStreamOptions{
		StreamName: c.streamName, MaxBytes: maxBytes, MaxAge: c.maxAge,
		AckTimeout: c.timeout, Retries: c.retries,
	})
}

func tlsFailed(err error) bool {
	var verr *tls.CertificateVerificationError
	var aerr tls.AlertError
	return errors.Is(err, nats.ErrTLS) || errors.As(err, &verr) || errors.As(err, &aerr) || strings.Contains(err.Error(), "remote error: tls:")
}

func authRefused(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || strings.Contains(strings.ToLower(err.Error()), "authorization violation")
}
