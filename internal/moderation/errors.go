package moderation

import (
	"errors"
	"fmt"
)

// Domain errors. Transports map these, in one place each, to their own
// codes (gRPC status, dead-letter reason).
var (
	ErrInvalid    = errors.New("invalid")
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrPermission = errors.New("permission denied")
	ErrTooMany    = errors.New("too many requests")
	// ErrCorrupt is a stored record (an account state, a decision, an
	// appeal) that cannot be decoded. It is permanent: retrying cannot
	// help, so a reader skips and reports it, and the pipeline dead-letters
	// the event that needed it and moves on.
	ErrCorrupt = errors.New("corrupt record")
)

// FieldError is an invalid value in a named field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s %s", e.Field, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true for every FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a FieldError for field.
func Invalid(field, reason string) error { return &FieldError{Field: field, Reason: reason} }
