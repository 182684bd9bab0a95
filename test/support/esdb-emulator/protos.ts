import { createRequire } from 'node:module';

/*
 * The service definitions and message classes that ship inside @eventstore/db-client. They are
 * loaded with require() so that the emulator shares the very module instances the client uses:
 * the generated serializers check `instanceof`, and a second copy would fail that check.
 */
const require = createRequire(import.meta.url);
const generated = (name: string): string => `@eventstore/db-client/generated/${name}`;

export const streamsPb = require(generated('streams_pb.js')) as typeof import('@eventstore/db-client/generated/streams_pb');
export const persistentPb = require(generated('persistent_pb.js')) as typeof import('@eventstore/db-client/generated/persistent_pb');
export const sharedPb = require(generated('shared_pb.js')) as typeof import('@eventstore/db-client/generated/shared_pb');
export const statusPb = require(generated('status_pb.js')) as typeof import('@eventstore/db-client/generated/status_pb');
export const serverFeaturesPb = require(generated('serverfeatures_pb.js')) as typeof import('@eventstore/db-client/generated/serverfeatures_pb');
export const streamsGrpc = require(generated('streams_grpc_pb.js')) as typeof import('@eventstore/db-client/generated/streams_grpc_pb');
export const persistentGrpc = require(generated('persistent_grpc_pb.js')) as typeof import('@eventstore/db-client/generated/persistent_grpc_pb');
export const serverFeaturesGrpc = require(generated('serverfeatures_grpc_pb.js')) as typeof import('@eventstore/db-client/generated/serverfeatures_grpc_pb');

// google-protobuf resolved from the generated folder, so Any/Empty are the classes status_pb uses.
const requireFromGenerated = createRequire(require.resolve(generated('status_pb.js')));
export const anyPb = requireFromGenerated('google-protobuf/google/protobuf/any_pb.js') as typeof import('google-protobuf/google/protobuf/any_pb');
export const emptyPb = requireFromGenerated('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb');
