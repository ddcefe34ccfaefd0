// CloudFront Function (cloudfront-js-2.0), viewer request of the default behaviour: the web
// client is a single-page app, so a path without a file extension (/images/abc, /login) is
// one of its routes and gets index.html. Done here rather than with error-page mappings,
// which would apply to the whole distribution and hide the JSON errors of /i/* and /v1/*.
function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
