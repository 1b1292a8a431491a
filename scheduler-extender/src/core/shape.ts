/**
 * Request shapes: one interned object per distinct `requestShapeKey`, so a node's memo can tell
 * "same question as last time" by identity instead of comparing strings per node.
 */
import { requestShapeKey, type PodRequest } from './pod-request.js';

export interface RequestShape {
  readonly key: string;
  readonly request: PodRequest;
}

export class ShapeTable {
  private readonly shapes = new Map<string, RequestShape>();

  /** @param maxShapes bound on remembered shapes; beyond it the table starts over (memos then miss once). */
  constructor(private readonly maxShapes = 10_000) {}

  intern(request: PodRequest): RequestShape {
    const key = requestShapeKey(request);
    let shape = this.shapes.get(key);
    if (shape === undefined) {
      if (this.shapes.size >= this.maxShapes) this.shapes.clear();
      shape = Object.freeze({ key, request });
      this.shapes.set(key, shape);
    }
    return shape;
  }
}
