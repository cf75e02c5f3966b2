package events

// For the external tests (package events_test), which may import packages
// that import this one (traffic, to decode the bench's own events).
var (
	DecodeJSON = decodeJSON
	Dump       = dump // an event with its pointers followed, for failures
)
