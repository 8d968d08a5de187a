// Tensor data in the binary form of the binary tensor data extension
// (docs/protocol.md "Binary tensor data"): little-endian, row-major, no padding.
import { MaasError } from '../../common/errors';
import { DATATYPES, type KServeDatatype, type NumericArray } from './datatypes';

// A typed-array view of `byteLength` bytes of `body` at `offset`. Zero-copy
// when the address suits the element type; a typed array cannot start at a
// misaligned byte, so only then the bytes are copied.
export function viewBlob(
  body: Uint8Array,
  offset: number,
  byteLength: number,
  datatype: KServeDatatype,
  inputName: string,
): NumericArray {
  const info = DATATYPES[datatype];
  if (!info.view || info.sizeBytes === 0) {
    throw new MaasError(
      'INVALID_DATATYPE',
      `input '${inputName}': ${datatype} tensors are not supported yet (the engine has no ${datatype} type)`,
    );
  }
  if (offset < 0 || offset + byteLength > body.byteLength) {
    throw new MaasError('INVALID_BINARY', `input '${inputName}': binary data runs past the end of the body`);
  }
  if (byteLength % info.sizeBytes !== 0) {
    throw new MaasError(
      'INVALID_BINARY',
      `input '${inputName}': ${byteLength} bytes is not a whole number of ${datatype} elements`,
    );
  }
  const length = byteLength / info.sizeBytes;
  const start = body.byteOffset + offset;
  if (start % info.sizeBytes === 0) return info.view(body.buffer as ArrayBuffer, start, length);
  const copy = new ArrayBuffer(byteLength);
  new Uint8Array(copy).set(body.subarray(offset, offset + byteLength));
  return info.view(copy, 0, length);
}

// The bytes of a tensor as a Buffer over the same memory (no copy).
export function blobBytes(data: NumericArray): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
