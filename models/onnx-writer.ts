// A small ONNX ModelProto writer: enough of onnx.proto to describe graphs of
// standard ops with initializers. Used for the demo models and test models.
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto).

export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;
export type OnnxDataTypeName = keyof typeof OnnxDataType;

export type OnnxTensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface OnnxTensorInit {
  name: string;
  dataType: OnnxDataTypeName;
  dims: number[];
  values: OnnxTensorValues; // little-endian element bytes; BOOL as Uint8Array, FLOAT16/BFLOAT16 bits as Uint16Array
  // 'raw' (default) writes raw_data; 'typed' writes float_data/int32_data/...
  encoding?: 'raw' | 'typed';
}

export type OnnxAttribute =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: number[] }
  | { floats: number[] }
  | { tensor: OnnxTensorInit };

export interface OnnxNodeInit {
  opType: string;
  inputs: string[]; // '' for an absent optional input
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, OnnxAttribute>;
}

// A dim is a number, a symbolic name (string) or null (unknown).
export interface OnnxValueInfo {
  name: string;
  dataType: OnnxDataTypeName;
  shape: Array<number | string | null>;
}

export interface OnnxModelInit {
  irVersion?: number; // default 8
  opset?: number; // default-domain opset, default 13
  producerName?: string;
  graphName?: string;
  nodes: OnnxNodeInit[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers?: OnnxTensorInit[];
  valueInfo?: OnnxValueInfo[];
}

// Protobuf wire writer: builds a message as a list of byte chunks.
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private sizeBytes = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.sizeBytes += bytes.length;
  }

  private varint(value: bigint): void {
    // Negative int64 values are written as their 10-byte two's complement.
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packedVarints(field: number, values: Iterable<number | bigint>): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(BigInt(v));
    return this.bytes(field, inner.finish());
  }

  packedFixed(field: number, bytes: Uint8Array): this {
    return this.bytes(field, bytes);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.sizeBytes);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

function valueBytes(values: OnnxTensorValues): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function writeTensor(w: ProtoWriter, t: OnnxTensorInit): void {
  w.packedVarints(1, t.dims);
  w.int(2, OnnxDataType[t.dataType]);
  w.string(8, t.name);
  if ((t.encoding ?? 'raw') === 'raw') {
    w.bytes(9, valueBytes(t.values));
    return;
  }
  // Typed fields: float_data(4), int32_data(5), int64_data(7), double_data(10), uint64_data(11).
  switch (t.dataType) {
    case 'FLOAT':
      w.packedFixed(4, valueBytes(t.values));
      break;
    case 'DOUBLE':
      w.packedFixed(10, valueBytes(t.values));
      break;
    case 'INT64':
      w.packedVarints(7, t.values as BigInt64Array);
      break;
    case 'UINT64':
    case 'UINT32':
      w.packedVarints(
        11,
        Array.from(t.values as ArrayLike<number | bigint>, (v) => BigInt(v)),
      );
      break;
    case 'INT32':
    case 'INT16':
    case 'INT8':
    case 'UINT16':
    case 'UINT8':
    case 'BOOL':
    case 'FLOAT16':
    case 'BFLOAT16':
      w.packedVarints(5, Array.from(t.values as ArrayLike<number>));
      break;
    default:
      throw new Error(`no typed encoding for ${t.dataType}`);
  }
}

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttribute): void {
  // AttributeProto: name(1) f(2) i(3) s(4) t(5) floats(7) ints(8) type(20)
  w.string(1, name);
  if ('int' in a) w.int(3, a.int).int(20, 2);
  else if ('float' in a) w.float(2, a.float).int(20, 1);
  else if ('string' in a) w.string(4, a.string).int(20, 3);
  else if ('tensor' in a) w.message(5, (tw) => writeTensor(tw, a.tensor)).int(20, 4);
  else if ('floats' in a) {
    const f = new Float32Array(a.floats);
    w.packedFixed(7, valueBytes(f)).int(20, 6);
  } else w.packedVarints(8, a.ints).int(20, 7);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  // TypeProto.tensor_type(1) → elem_type(1), shape(2) → dim(1) → dim_value(1) | dim_param(2)
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, OnnxDataType[v.dataType]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => {
            if (typeof d === 'number') dim.int(1, d);
            else if (typeof d === 'string') dim.string(2, d);
          });
        }
      });
    }),
  );
}

export function encodeModel(model: OnnxModelInit): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion ?? 8); // ir_version
  w.string(2, model.producerName ?? 'maas');
  w.message(7, (g) => {
    // graph
    for (const n of model.nodes) {
      g.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        if (n.name) nw.string(3, n.name);
        nw.string(4, n.opType);
        for (const [k, a] of Object.entries(n.attributes ?? {})) nw.message(5, (aw) => writeAttribute(aw, k, a));
        if (n.domain) nw.string(7, n.domain);
      });
    }
    g.string(2, model.graphName ?? 'main');
    for (const t of model.initializers ?? []) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of model.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of model.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
    for (const v of model.valueInfo ?? []) g.message(13, (vw) => writeValueInfo(vw, v));
  });
  w.message(8, (op) => op.string(1, '').int(2, model.opset ?? 13)); // opset_import
  return w.finish();
}
