/**
 * Request shapes: one interned object per distinct `requestShapeKey`, so "same question as last
 * time" is an identity check, and each shape carries the filter path's memo: per node slot, the
 * epoch a decision code was computed at and the code (hot-table.ts), side by side.
 */
import { requestShapeKey, type PodRequest } from './pod-request.js';

export class RequestShape {
  /** `memo[2 * slot]` = epoch the code was computed at (0 = none), `memo[2 * slot + 1]` = code. */
  memo: Int32Array = new Int32Array(0);

  constructor(
    readonly key: string,
    readonly request: PodRequest,
  ) {}

  /** Makes room for `capacity` slots; growing forgets the memo (it is recomputed on demand). */
  ensureCapacity(capacity: number): void {
    if (this.memo.length >= capacity * 2) return;
    this.memo = new Int32Array(capacity * 2);
  }
}

export class ShapeTable {
  private readonly shapes = new Map<string, RequestShape>();

  /**
   * @param maxShapes bound on remembered shapes (each holds 8 bytes per node); beyond it the
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
