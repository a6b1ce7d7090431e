package memstore_test

import (
	"context"
	"testing"

	"github.com/knitter-cni/knitter/fakes/memstore"
)

// TestUnfenced: an ended term's write is refused, unless the planted switch turns the fence off.
func TestUnfenced(t *testing.T) {
	for _, unfenced := range []bool{false, true} {
		s := memstore.New()
		s.SetUnfenced(unfenced)
		term, err := s.Campaign(context.Background(), "a")
		if err != nil {
			t.Fatal(err)
		}
		s.LoseTerm()
		slot, err := term.Reserve()
		if !unfenced {
			if err == nil {
				t.Fatal("fenced: an ended term reserved a slot")
			}
			continue
		}
		if err != nil {
			t.Fatalf("unfenced: Reserve: %v", err)
		}
		if err := slot.Submit(nil).Wait(); err != nil {
			t.Fatalf("unfenced: the ended term's write failed: %v", err)
		}
	}
}
