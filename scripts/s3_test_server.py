"""moto's S3 server with S3's atomic conditional writes.

moto checks `If-None-Match: *` and then stores the object as two steps on a
threaded server, so two concurrent create-if-absent PUTs of one key can both
succeed; real S3 (and MinIO, R2, ...) decide them atomically, and the
registry's version and promotion claims rely on that. This launcher makes
every object write and multipart completion hold one lock, so the test server
has the semantics the code is written against; reads stay concurrent.

Usage: python s3_test_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

import functools
import threading

from moto.s3.responses import S3Response
from moto.server import main

_WRITE = threading.Lock()


def _serialized(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _WRITE:
            return method(*args, **kwargs)

    return wrapper


# Plain and conditional PUT of an object (upload_part etc. are separate methods).
S3Response.put_object = _serialized(S3Response.put_object)
# POST on a key: CompleteMultipartUpload, which also honours If-None-Match.
S3Response._key_response_post = _serialized(S3Response._key_response_post)

if __name__ == "__main__":
    main()
