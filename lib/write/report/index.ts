/** The change record of one pointer move (`meshfed report`): its data and its two renderings. */
export { renderReportHtml } from './html';
export { renderReportMarkdown } from './markdown';
export type { ChangeRecord } from './types';
