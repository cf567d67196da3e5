'use strict';
// runs.post of the action: run `app-token action-post` (see launch.js).
require('./launch').main('action-post');
