// Package moderationv1 is the generated Go for the moderation.v1 protobuf
// API (every .proto file in this directory), committed beside them.
//
// To regenerate after editing a .proto file, from the module root:
//
//	go generate ./api/...
//
// Only Go is needed: buf (the compiler) is run at a pinned version through
// the Go module proxy, and protoc-gen-go and protoc-gen-go-grpc are the
// versions pinned as tool directives in go.mod (see api/buf.gen.yaml). The
// well-known types (google/protobuf/timestamp.proto) are built into buf, so
// generation needs no network once the module cache is filled. CI checks
// that the committed code is current with
//
//	MODERATION_CHECK_GENERATED=1 go test ./api/...
package moderationv1

//go:generate go run github.com/bufbuild/buf/cmd/buf@v1.50.0 generate ../.. --template ../../buf.gen.yaml --path ../../moderation -o ../..
