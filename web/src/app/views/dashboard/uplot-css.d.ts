// uPlot's stylesheet, imported as text (`with { type: "text" }`, an esbuild loader) by ./charts.ts.
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
