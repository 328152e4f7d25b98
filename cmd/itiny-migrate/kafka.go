package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/itiny/itiny/migrate"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// dialKafka connects to the Kafka broker at u, retrying an unreachable
// one at most c.retries times with a growing pause, but never refused
// credentials.
func dialKafka(ctx context.Context, u *url.URL, c *config, maxBytes int64) (migrate.Sink, error) {
	host := u.Host
	opts := []kgo.Opt{
		kgo.DialTimeout(c.timeout),
		kgo.RequestRetries(c.retries),
		kgo.RetryTimeout(c.timeout * time.Duration(max(c.retries, 1))),
	}
	tc, err := c.sec.tlsConfig(u.Hostname(), false)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	mech, err := kafkaSASL(&c.sec)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	k, err := migrate.NewKafka([]string{host}, opts, migrate.KafkaOptions{
		MaxBytes: maxBytes, MaxAge: c.maxAge, AckTimeout: c.timeout, Retries: c.retries,
	})
	if err != nil {
		return nil, err
	}
	pause := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, c.timeout)
		err = k.Ping(pctx)
		cancel()
		if err == nil {
			return k, nil
		}
		if ctx.Err() != nil {
			k.Close()
			return nil, ctx.Err()
		}
		if errors.Is(err, migrate.ErrKafkaAuthRefused) {
			k.Close()
			return nil, withCode(exitRefused, fmt.Errorf("kafka broker %s refused the SASL credentials: %w", host, err))
		}
		if eof := new(kgo.ErrFirstReadEOF); errors.As(err, &eof) {
			// The broker hangs up at once: TLS or SASL on one side only.
			k.Close()
			return nil, withCode(exitRefused, fmt.Errorf("kafka broker %s: %w", host, err))
		}
		if tlsFailed(err) { // retrying cannot mend a certificate
			k.Close()
			return nil, withCode(exitRefused, fmt.Errorf("TLS handshake with kafka broker %s failed: %w", host, err))
		}
		if attempt >= c.retries {
			k.Close()
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no answer in %v (TLS at one end only?): %w", c.timeout, err)
			}
			return nil, fmt.Errorf("cannot reach kafka broker %s after %s: %w", host, attempts(attempt), err)
		}
		select {
		case <-ctx.Done():
			k.Close()
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// kafkaSASL returns the SASL mechanism of the credentials in --sasl-file
// (two lines: user, password) or in ITINY_KAFKA_USER and
// ITINY_KAFKA_PASSWORD; nil without credentials.
func kafkaSASL(s *security) (sasl.Mechanism, error) {
	var user, pass string
	switch {
	case s.saslFile != "":
		b, err := readSecret(s.saslFile)
		if err != nil {
			return nil, fmt.Errorf("--sasl-file: %w", err)
		}
		u, p, ok := strings.Cut(b, "\n")
		user, pass = strings.TrimSpace(u), strings.TrimSpace(p)
		if !ok || user == "" || pass == "" || strings.Contains(pass, "\n") {
			return nil, fmt.Errorf("--sasl-file %s: want two lines, the user and the password", s.saslFile)
		}
	case os.Getenv("ITINY_KAFKA_USER") != "":
		user, pass = os.Getenv("ITINY_KAFKA_USER"), os.Getenv("ITINY_KAFKA_PASSWORD")
	default:
		return nil, nil
	}
	switch strings.ToLower(s.saslMech) {
	case "plain":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "scram-sha-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "scram-sha-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("--sasl %q: plain, scram-sha-256 or scram-sha-512", s.saslMech)
}
