// The part of @resvg/resvg-js's API the kit uses. Its own index.d.ts references Node's type package, which
// `deno doc` cannot resolve (82 warnings); these declarations describe the same classes without it.
export interface ResvgRenderOptions {
  font?: { loadSystemFonts?: boolean; fontFiles?: string[]; fontDirs?: string[]; defaultFontFamily?: string };
  fitTo?: { mode: "original" } | { mode: "width"; value: number } | { mode: "zoom"; value: number };
  background?: string;
  logLevel?: "off" | "error" | "warn" | "info" | "debug" | "trace";
}
export declare class RenderedImage {
  asPng(): Uint8Array;
  get width(): number;
  get height(): number;
}
export declare class Resvg {
  constructor(svg: Uint8Array | string, options?: ResvgRenderOptions | null);
  render(): RenderedImage;
  /** The SVG's own width, before any `fitTo`. */
  get width(): number;
  /** The SVG's own height, before any `fitTo`. */
  get height(): number;
}
