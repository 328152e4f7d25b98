package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"

	"github.com/itiny/itiny/internal/regular"
)

// security holds the TLS and credential flags. Secrets themselves are
// never arguments (they would show in the process list): flags name files,
// or the environment holds them.
type security struct {
	tls                bool
	ca, cert, key      string
	creds, nkey        string
	saslFile, saslMech string
}

func (s *security) flags(fs *flag.FlagSet) {
	fs.BoolVar(&s.tls, "tls", false, "use TLS (implied by a tls:// URL or any --tls-* file)")
	fs.StringVar(&s.ca, "tls-ca", "", "PEM file of the CA certificates to trust (default: the system's)")
	fs.StringVar(&s.cert, "tls-cert", "", "PEM file of a client certificate, with --tls-key")
	fs.StringVar(&s.key, "tls-key", "", "PEM file of the client certificate's key")
	fs.StringVar(&s.creds, "creds", "", "NATS credentials file (JWT and nkey seed)")
	fs.StringVar(&s.nkey, "nkey", "", "NATS nkey seed file")
	fs.StringVar(&s.saslFile, "sasl-file", "", "Kafka SASL user and password, one per line (default: ITINY_KAFKA_USER, ITINY_KAFKA_PASSWORD)")
	fs.StringVar(&s.saslMech, "sasl", "plain", "Kafka SASL mechanism: plain, scram-sha-256 or scram-sha-512")
}

// tlsConfig returns the TLS configuration for host, or nil without TLS.
func (s *security) tlsConfig(host string, forced bool) (*tls.Config, error) {
	if !forced && !s.tls && s.ca == "" && s.cert == "" && s.key == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.ca != "" {
		pem, err := regular.ReadFile(s.ca, maxSecret)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", s.ca)
		}
		cfg.RootCAs = pool
	}
	if (s.cert == "") != (s.key == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if s.cert != "" {
		cert, err := regular.ReadFile(s.cert, maxSecret)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert: %w", err)
		}
		key, err := regular.ReadFile(s.key, maxSecret)
		if err != nil {
			return nil, fmt.Errorf("--tls-key: %w", err)
		}
		c, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}
