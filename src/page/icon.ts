/**
 * The chat page's icon: a speech bubble, as SVG. Served as /favicon.svg (the page links it)
 * and as /favicon.ico (what browsers ask for unprompted), so no console shows a 404.
 */

/** The icon's SVG document. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<path fill="#223" d="M4 4h24a2 2 0 0 1 2 2v15a2 2 0 0 1-2 2H13l-7 6v-6H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>
<circle fill="#2a6" cx="10" cy="13.5" r="2"/><circle fill="#2a6" cx="16" cy="13.5" r="2"/><circle fill="#2a6" cx="22" cy="13.5" r="2"/>
</svg>
`;
