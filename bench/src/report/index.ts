export * from './report.js';
export * from './markdown.js';
export * from './charts.js';
export * from './describe.js';
export * from './write.js';
export { renderRowChart, type ChartRow, type ChartSpec } from './chart.js';
