// The part of hyparquet-writer's API the kit uses. Its own types import `hyparquet/src/types.js`, which
// `deno doc` cannot resolve (a warning on every run); these declarations describe the same function without it.
export interface ColumnSource {
  name: string;
  data: string[] | number[] | Int32Array;
  type?: "STRING" | "INT32";
  nullable?: boolean;
}
export interface ParquetWriteOptions {
  columnData: ColumnSource[];
  createdBy?: string;
}
export declare function parquetWriteBuffer(options: ParquetWriteOptions): ArrayBuffer;
