// The two WHATWG encoding classes the package uses, present in every browser and in Node:
// declared here so that the sources compile against the ES library alone (no DOM, no Node).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
