/**
 * A minimal ONNX protobuf writer, enough for the tiny models the project generates for its
 * own tests (tools/gen-tiny-onnx.ts, analytics/rules/tiny-clip-model.ts) without Python or
 * ONNX tooling. Field numbers are onnx.proto's.
 */
function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
export const int = (field: number, v: number): number[] => [...key(field, 0), ...varint(v)];
export const bytes = (field: number, b: Uint8Array | number[]): number[] => [...key(field, 2), ...varint(b.length), ...b];
export const str = (field: number, s: string): number[] => bytes(field, [...new TextEncoder().encode(s)]);
export const msg = (field: number, parts: number[][]): number[] => bytes(field, parts.flat());

export const FLOAT = 1;
export const INT64 = 7;

/** TensorProto fields: dims, data type, name, raw data. */
export function tensor(name: string, dims: number[], dataType: number, raw: Uint8Array): number[][] {
  return [...dims.map((d) => int(1, d)), int(2, dataType), str(8, name), bytes(9, raw)];
}
/** ValueInfoProto (graph input 11 / output 12) of a float tensor. */
export function valueInfo(field: number, name: string, shape: number[]): number[] {
  const dims = shape.map((d) => msg(1, [int(1, d)]));
  return msg(field, [str(1, name), msg(2, [msg(1, [int(1, FLOAT), msg(2, dims)])])]);
}
export function attrInts(name: string, values: number[]): number[] {
  return msg(5, [str(1, name), int(20, 7), ...values.map((v) => int(8, v))]);
}
export function attrInt(name: string, v: number): number[] {
  return msg(5, [str(1, name), int(20, 2), int(3, v)]);
}
export function node(op: string, inputs: string[], outputs: string[], name: string, attrs: number[][] = []): number[] {
  return msg(1, [...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, op), ...attrs]);
}
/** A ModelProto (IR version 8, opset 13) around a graph's fields. */
export function model(producer: string, graph: number[][]): Uint8Array {
  return new Uint8Array([int(1, 8), str(2, producer), str(3, '1'), msg(7, graph), msg(8, [str(1, ''), int(2, 13)])].flat());
}
