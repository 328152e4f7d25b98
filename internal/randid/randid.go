// Package randid makes random identifiers (ring ids, boot ids) from the
// kernel's random source. It exists instead of crypto/rand, which brings
// about 100 KiB of FIPS machinery into a firmware binary that needs
// neither keys nor certification, only unique ids.
package randid

import (
	"io"
	"os"

	"github.com/itiny/itiny/internal/tinyfmt"
)

// Read fills b with random bytes from /dev/urandom.
func Read(b []byte) error {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return tinyfmt.Errorf("randid: %w", err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, b); err != nil {
		return tinyfmt.Errorf("randid: %w", err)
	}
	return nil
}
