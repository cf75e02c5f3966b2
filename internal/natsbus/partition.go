package natsbus

import (
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// Partitions is how many partitions accounts are spread over: fixed once,
// because an account's partition is part of the stored subject of each of
// its events, and larger than any number of instances expected, so that
// instances share partitions and never need to split one. 32 partitions
// keep every lane of up to 32 instances busy, and cost one consumer each.
const Partitions = 32

// PublishSubjects are the subjects publishers send events on:
// mod.events.<kind>.<account>, exactly four tokens. A publisher cannot
// choose the partition token itself (its permissions allow only these),
// so every event of an account lands in the account's partition.
const PublishSubjects = "mod.events.*.*"

// eventsTransform is the events stream's subject transform: NATS appends
// the partition, a hash of the account token, so each event is stored as
// mod.events.<kind>.<account>.<partition>. Publishers are unchanged.
var eventsTransform = &jetstream.SubjectTransformConfig{
	Source:      PublishSubjects,
	Destination: fmt.Sprintf("mod.events.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(%d,2)}}", Partitions),
}

// PartitionOf is the partition NATS stores an account's events in: FNV-1a
// of the account id modulo Partitions, as the server's partition()
// transform computes it (TestPartitionOfMatchesServer).
//
// It is FNV-1a written out rather than hash/fnv because every event's
// subject is checked against it, and hash/fnv's Hash32 costs an allocation
// per call there.
func PartitionOf(account string) int {
	h := uint32(2166136261)
	for i := 0; i < len(account); i++ {
		h ^= uint32(account[i])
		h *= 16777619
	}
	return int(h % Partitions)
}

// PartitionFilter is the subject filter of one partition's events.
func PartitionFilter(p int) string { return "mod.events.*.*." + strconv.Itoa(p) }

// PartitionConsumer names the durable consumer of partition p.
func PartitionConsumer(p int) string { return fmt.Sprintf("%s-%02d", PipelineDurable, p) }

// LaneGroup is the priority group the partition consumers pin to one
// client at a time: the lane of one instance.
const LaneGroup = "lanes"
