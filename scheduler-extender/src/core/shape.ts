/**
 * Request shapes: one interned object per distinct `requestShapeKey`, so "same question as last
 * time" is an identity check, and each shape carries the filter path's memo: one decision code
 * per node slot (see hot-table.ts), valid while the slot's epoch is unchanged.
 */
import { requestShapeKey, type PodRequest } from './pod-request.js';

export class RequestShape {
  /** Decision code per node slot (hot-table.ts `encodeDecision`). */
  codes: Int16Array = new Int16Array(0);
  /** Epoch of the slot each code was computed at; a code is valid when it equals the slot's epoch. */
  epochs: Uint32Array = new Uint32Array(0);

  constructor(
    readonly key: string,
    readonly request: PodRequest,
  ) {}

  /** Makes room for `capacity` slots; growing forgets the memo (it is recomputed on demand). */
  ensureCapacity(capacity: number): void {
    if (this.codes.length >= capacity) return;
    this.codes = new Int16Array(capacity);
    this.epochs = new Uint32Array(capacity);
  }
}

export class ShapeTable {
  private readonly shapes = new Map<string, RequestShape>();

  /**
   * @param maxShapes bound on remembered shapes (each holds ~6 bytes per node); beyond it the
   * table starts over and memos are recomputed once.
   */
  constructor(private readonly maxShapes = 256) {}

  intern(request: PodRequest): RequestShape {
    const key = requestShapeKey(request);
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      if (this.shapes.size >= this.maxShapes) this.shapes.clear();
      shape = new RequestShape(key, request);
      this.shapes.set(key, shape);
    }
    return shape;
  }
}
