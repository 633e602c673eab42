// htm bound to Preact: components are written as tagged templates, so the browser runs
// these files as they are, with no build step.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
