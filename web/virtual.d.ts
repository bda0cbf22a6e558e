/** The exported checkerboard model shipped with the page: the URLs of its two files, or `undefined`. */
declare module "virtual:shipped-model" {
  const model: { readonly manifest: string; readonly weights: string } | undefined;
  export default model;
}
