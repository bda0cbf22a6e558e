/**
 * Pictures as data: RGB rasters, scatter plots of 2-D samples, image grids, titled galleries, a built-in bitmap
 * font and PNG encoding. Pure functions, no DOM and no Node modules.
 *
 * @module
 */
export * from "./font.js";
export * from "./grid.js";
export * from "./raster.js";
export * from "./scatter.js";
export { PLOT_COLORS } from "./style.js";
