// The limits of the bounded JSON reader (json-reader.ts), in one place.
export const MAX_JSON_NESTING_DEPTH = 100; // Triton's HTTP_MAX_JSON_NESTING_DEPTH
export const MAX_JSON_VALUES = 65_536; // outside tensor data: ids, shapes, parameters, outputs
