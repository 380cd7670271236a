/** Types for parse-prometheus-text-format (it ships none): the text exposition format to objects. */
declare module "parse-prometheus-text-format" {
  /** Parses a Prometheus text exposition into metric families. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
